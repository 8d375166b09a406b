"""Render formulas to MathML while building, so a page needs no MathJax and no network.

Browsers draw MathML themselves (MathML Core: Chromium 109+, Firefox, Safari). The LaTeX is
converted by ``latex2mathml``; the source stays in the page as the ``alttext`` of each formula.
"""

from html import escape

from docutils import nodes
from latex2mathml.converter import convert


def mathml(latex: str, display: str) -> str:
    markup = convert(latex.strip(), display=display)
    return markup.replace("<math ", f'<math alttext="{escape(latex.strip())}" ', 1)


def visit_math(self, node):
    self.body.append(f'<span class="math notranslate">{mathml(node.astext(), "inline")}</span>')
    raise nodes.SkipNode


def visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    self.body.append(mathml(node.astext(), "block") + "</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    app.config.html_math_renderer = "mathml"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
