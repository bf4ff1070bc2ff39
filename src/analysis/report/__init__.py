"""The main job: the pipeline's stages, charts, the meeting pack."""
