"""The main job: the pipeline's stages, the one publishing step, the charts and the meeting pack.

- :mod:`.pipeline`   one function per stage, and ``run`` (``python -m analysis report``)
- :mod:`.publish`    the publication (what a run shares) and ``publish``, the only way shared files are made
- :mod:`.output`     the only module here that touches the file system (writing, the atomic run folder, the
  derived-folder check)
- :mod:`.texts`      the pack's cover, methods and provenance, and the run folder's READMEs, as data
- :mod:`.notebooks`  executing the five notebooks with the report's inputs
- :mod:`.charts`     the meeting charts; :mod:`.pack` the pack as HTML and PDF
"""
