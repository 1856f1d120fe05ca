// The school's live stream (server-sent events) read with fetch, so that the staff token goes in a header.

const RETRY_MS = [500, 1000, 2000, 5000];

/** Call onSnapshot with every occupancy snapshot, reconnecting for ever; onState("live" | "reconnecting"). */
export async function followLive(url, token, onSnapshot, onState) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" } });
      if (response.ok) {
        attempt = 0;
        onState("live");
        await readEvents(response.body, onSnapshot);
      }
    } catch {
      // the network dropped: try again below
    }
    onState("reconnecting");
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
  }
}

async function readEvents(body, onSnapshot) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const name = lines.find((line) => line.startsWith("event:"))?.slice(6).trim();
      const data = lines.filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n");
      if (name === "occupancy" && data) {
        onSnapshot(JSON.parse(data));
      }
    }
  }
}
