"""What the statistics look like to people: labels in their language, SVG charts drawn on
the server, and the self-contained HTML report."""
