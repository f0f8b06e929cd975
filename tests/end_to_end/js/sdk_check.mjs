// Drives the fake with the official JS SDK (@google/genai); prints one JSON line of what it saw.
import { GoogleGenAI } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: "js-sdk-key",
  httpOptions: { baseUrl: process.env.FAKE_BASE_URL, apiVersion: "v1beta" },
});

// Width and height from a PNG's IHDR or a JPEG's SOF0/SOF2 segment.
function imageSize(base64) {
  const bytes = Buffer.from(base64, "base64");
  if (bytes[0] === 0x89) return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
  let offset = 2;
  while (offset < bytes.length) {
    const marker = bytes[offset + 1];
    if (marker === 0xc0 || marker === 0xc2) return [bytes.readUInt16BE(offset + 7), bytes.readUInt16BE(offset + 5)];
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return null;
}

const out = {};
const response = await ai.models.generateContent({
  model: "gemini-3.1-flash-image-preview",
  contents: "a paper crane",
  config: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "4:1", imageSize: "512" } },
});
const parts = response.candidates[0].content.parts;
const image = parts.find((part) => part.inlineData);
out.size = imageSize(image.inlineData.data);
out.mime = image.inlineData.mimeType;
out.signed = Boolean(image.thoughtSignature);
out.text = response.text;
out.total = response.usageMetadata.totalTokenCount;
try {
  await ai.models.generateContent({
    model: "gemini-2.5-flash-image", contents: "x", config: { imageConfig: { aspectRatio: "8:1" } },
  });
  out.error = null;
} catch (error) {
  out.error = { status: error.status, message: String(error.message) };
}
const stream = await ai.models.generateContentStream({ model: "gemini-3-pro-image-preview", contents: "streamed" });
out.streamed = [];
for await (const chunk of stream) {
  out.streamed.push((chunk.candidates?.[0]?.content?.parts ?? []).map((part) => Object.keys(part).sort().join("+")));
}
console.log(JSON.stringify(out));
