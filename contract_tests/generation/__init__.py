"""What the suite sends: cases, Hypothesis strategies for valid and invalid requests, test images."""
