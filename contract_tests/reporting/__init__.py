"""What a run tells: results, console/JSON/HTML/JUnit reports, key redaction of everything written."""
