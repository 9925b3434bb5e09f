"""The estate report: one self-contained HTML page (and the same data as JSON) of every image."""
