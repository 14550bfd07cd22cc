"""The verdict: which generator is best, judged with numbers (``latentatlas compare``).

Modules, in the order a verdict is made:

    compare     run_compare: fit every generator on the train split, sample, decode, judge, rank,
                write ``verdict.json`` and the page (torch)
    scoring     how one set of generated z-points is judged: in z against held-out real points,
                and on its decoded images by the judges
    judges/     image-space judges: networks the autoencoder did not make (the attribute CNN,
                dlib's face descriptor, the Haar face rate, the image two-sample test)
    catalogue   every verdict number described once: where it sits, which way is better
    ladder      the known-degradation ladder's rungs, and the check that a metric responds
    ranking     the one rule that names the best generator
    page        the verdict page; ``tables`` and ``charts`` the tables and figures on it

``catalogue``, ``ladder`` and ``ranking`` import no torch: the atlas and the demo read a
``verdict.json`` with them.
"""

__all__ = [
    "catalogue",
    "charts",
    "compare",
    "judges",
    "ladder",
    "page",
    "ranking",
    "scoring",
    "tables",
]
