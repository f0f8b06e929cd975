// Drives the fake's Interactions API with the official JS SDK (@google/genai 3.x, SDK default /v1);
// prints one JSON line of what it saw.
import { GoogleGenAI } from "@google/genai";

const ai = new GoogleGenAI({ apiKey: "js-sdk-key", httpOptions: { baseUrl: process.env.FAKE_BASE_URL } });
const out = {};

const first = await ai.interactions.create({
  model: "gemini-3-pro-image-preview",
  input: "a paper crane",
  response_format: { type: "image", aspect_ratio: "16:9", mime_type: "image/jpeg" },
});
out.status = first.status;
out.steps = first.steps.map((step) => step.type);
const image = first.steps.find((step) => step.type === "model_output").content.find((c) => c.type === "image");
const bytes = Buffer.from(image.data, "base64");
out.jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
out.total = first.usage.total_tokens;

const second = await ai.interactions.create({
  model: "gemini-3-pro-image-preview", input: "now in blue", previous_interaction_id: first.id,
});
out.continued = second.status;

out.streamed = [];
const stream = await ai.interactions.create({ model: "gemini-2.5-flash-image", input: "a boat", stream: true });
for await (const event of stream) {
  out.streamed.push(event.event_type + (event.delta ? ":" + event.delta.type : ""));
}

try {
  await ai.interactions.create({
    model: "gemini-2.5-flash-image", input: "x", response_format: { type: "image", aspect_ratio: "8:1" },
  });
  out.error = null;
} catch (error) {
  out.error = { name: error.constructor.name, status: error.status, message: String(error.message) };
}
console.log(JSON.stringify(out));
