"""Self-checks for the course's exercises: one ``check_*`` function per exercise.

A check runs the student's function (or class) on several cases, smallest first, and
compares each result with seglib's own implementation.  It prints one line per case and
``all N cases pass``; on a wrong answer it raises ``AssertionError`` that names the mistake
when it is a known one (an absent class scored 1.0, void counted, the matrix transposed...)
and otherwise shows the smallest failing input with the expected and the returned value.
It never prints the solution, and imports no Jupyter or plotting package.

    from seglib.exercises import check_confusion_matrix
    check_confusion_matrix(confusion_matrix)

One module per topic: ``metrics`` (notebook 00), ``upsampling`` (01), ``unet`` (02),
``inception`` (03), ``dilation`` (04), ``context`` (05), ``leaderboard`` (06), ``realdata``
(07); ``checking``
holds the machinery they share.
"""

from . import context, dilation, inception, leaderboard, metrics, realdata, unet, upsampling
from .checking import Case, Mistake, run_check
from .context import *  # noqa: F401,F403
from .dilation import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from .leaderboard import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .realdata import *  # noqa: F401,F403
from .unet import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403

TOPICS = (metrics, upsampling, unet, inception, dilation, context, leaderboard, realdata)
__all__ = ["Case", "Mistake", "run_check"] + [name for module in TOPICS for name in module.__all__]
