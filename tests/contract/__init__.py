"""Contract tests: the SDK against Prism serving openapi/bundled.yaml."""
