"""Where the hub keeps its files: moved to hubcore.paths, the bottom layer every package may import.

Kept as a re-export so code written against `rgw.settings` goes on working; new code imports hubcore.paths.
"""

from hubcore.paths import REPO_ROOT, HubPaths

__all__ = ["REPO_ROOT", "HubPaths"]
