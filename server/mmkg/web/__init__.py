"""HTTP plumbing every room shares: plain and JSON responses, CORS, conditional GET with ETag
and gzip, the serving host's URLs, refusal of hostile paths, and the error pages."""
