// Drives the fake with the official JS SDK (@google/genai); prints one JSON line of what it saw.
import { GoogleGenAI } from "@google/genai";

const ai = new GoogleGenAI({
  apiKey: "js-sdk-key",
  httpOptions: { baseUrl: process.env.FAKE_BASE_URL, apiVersion: "v1beta" },
});

function pngSize(base64) {
  const bytes = Buffer.from(base64, "base64");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

const out = {};
const response = await ai.models.generateContent({
  model: "gemini-3.1-flash-image-preview",
  contents: "a paper crane",
  config: { responseModalities: ["TEXT", "IMAGE"], imageConfig: { aspectRatio: "4:1", imageSize: "512" } },
});
const parts = response.candidates[0].content.parts;
const image = parts.find((part) => part.inlineData);
out.size = pngSize(image.inlineData.data);
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
