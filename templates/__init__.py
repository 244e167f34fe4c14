"""The gallery's Jinja2 templates and assets, shipped inside the package as archdraw.templates."""
