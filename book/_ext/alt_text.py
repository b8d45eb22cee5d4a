"""Sphinx extension: a notebook figure's alt text, kept in its output's metadata
(``helpers.plots`` puts it there), becomes the ``alt`` of the image on the page.

MyST-NB reads image options from the cell's metadata only, so one alt text would cover every
figure of a cell; the output's own metadata names each figure.
"""

from myst_nb.core.render import NbElementRenderer


def _with_alt(render_image):
    def render(self, data):
        nodes = render_image(self, data)
        alt = data.output_metadata.get(data.mime_type, {}).get("alt")
        for node in nodes:
            if alt and not node.get("alt"):
                node["alt"] = str(alt)
        return nodes

    render.aebook_alt = True
    return render


def setup(app):
    if not getattr(NbElementRenderer.render_image, "aebook_alt", False):
        NbElementRenderer.render_image = _with_alt(NbElementRenderer.render_image)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
