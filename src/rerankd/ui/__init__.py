"""The web UI (Gradio): talks to the engine in process, or to a server over HTTP."""
