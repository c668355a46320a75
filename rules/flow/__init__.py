"""flow rules: declared intents, flows that must or must not exist (--intents)."""
