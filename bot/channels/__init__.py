"""Channel adapters: each translates one platform to Incoming/Reply and back."""
