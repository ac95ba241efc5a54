"""gsvc: can diffusion-based semantic video communication run in real time over a real wireless link?"""
__version__ = "0.1.0"
