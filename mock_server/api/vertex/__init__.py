"""Vertex AI's doors to the same models: publisher-model paths and the Vertex flavour of the answer."""
