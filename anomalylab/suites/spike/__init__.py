"""The seed project's spike series (synthetic spikes labelled by a rolling-median rule; a chronological 80/20 split)."""
