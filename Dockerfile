# Handoff API image. Without HANDOFF_DATABASE_URL it runs the embedded PostgreSQL in /app/var;
# compose.yaml points it at the `db` service instead.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --create-home --uid 10001 handoff \
    && mkdir -p /app/var /app/keys \
    && chown handoff:handoff /app/var /app/keys

USER handoff
EXPOSE 8000
CMD ["handoff", "serve", "--host", "0.0.0.0", "--port", "8000"]
