/** Web APIs real apps lean on: a gzip round trip through Compression Streams, and a FormData upload. */
export default {
  async fetch(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/gzip") {
      const input = await request.text();
      const compressed = new Uint8Array(
        await new Response(
          new Response(input).body!.pipeThrough(new CompressionStream("gzip")),
        ).arrayBuffer(),
      );
      const back = await new Response(
        new Response(compressed).body!.pipeThrough(new DecompressionStream("gzip")),
      ).text();
      return Response.json({
        magic: [compressed[0], compressed[1]],
        same: back === input,
        length: back.length,
      });
    }
    if (pathname === "/gzip-out") {
      const body = new Response("zipped ".repeat(100)).body!.pipeThrough(new CompressionStream("gzip"));
      return new Response(body, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } });
    }
    if (pathname === "/upload") {
      const form = await request.formData();
      const file = form.get("file");
      if (!(file instanceof File)) return Response.json({ error: "no file part" }, { status: 400 });
      return Response.json({
        title: form.get("title"),
        tags: form.getAll("tag"),
        file: { name: file.name, type: file.type, size: file.size, text: await file.text() },
      });
    }
    return new Response("not found", { status: 404 });
  },
};
