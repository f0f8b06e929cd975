"""What the fake answers: request validation and normalisation, reply planning, images, usage,
thoughts and signatures, conversations, grounding."""
