"""API schemas of audit exports: what a regulator or admin asks to export."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictBool

from service.http.schemas.common import CommandRequest, IsoDate, Reason, Ref


class ExportRequest(CommandRequest):
    day_from: IsoDate = Field(description="First service day")
    day_to: IsoDate = Field(description="Last service day (at most 366 days after the first)")
    reason: Reason = Field(description="Why the export is made; recorded with it")
    requested_by: Ref | None = Field(default=None, description="Who asked for it; the caller if omitted")
    with_names: StrictBool = Field(default=False, description="Children's names instead of pseudonyms (admins only)")


class PublishedKey(BaseModel):
    fingerprint: str = Field(description="40 digits in groups of five, to read out over the phone (指纹)")
    public_key_base64: str = Field(description="The 32-byte Ed25519 public key, base64")
    key_id: str = Field(description="The first 16 hex digits of SHA-256 of the key, as checkpoints name it")


class CurrentKey(PublishedKey):
    public_key_pem: str = Field(description="The same key as a SubjectPublicKeyInfo PEM")


class PublishedWitness(BaseModel):
    vkey: str = Field(description="The witness's verifier key (name+key id+base64), as `--witness-key` takes it")
    name: str = Field(description="The witness's name, as its cosignature lines carry it")
    stand_in: bool = Field(description="The development stand-in inside this server, which proves nothing")


class SigningKeys(BaseModel):
    """The keys that sign checkpoints and export statements; regulators pin the fingerprint (see the README)."""

    current: CurrentKey
    earlier: list[PublishedKey] = Field(description="Keys used before, oldest first")
    rotations: list[str] = Field(description="Signed notes, each announcing a new key under the one before")
    lost: list[dict[str, str]] = Field(description="Keys recorded as lost: their successors were announced by nobody")
    witness: PublishedWitness | None = Field(
        default=None, description="The witness whose cosignatures the bundles carry; confirm its vkey with the bureau"
    )
