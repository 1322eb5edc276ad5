"""The review TUI: the only package that may import textual. It only ever receives a finished report."""
