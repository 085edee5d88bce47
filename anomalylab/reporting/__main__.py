"""``python -m anomalylab.reporting`` (``make readme``): regenerate README.md's short table and RESULTS.md."""

from anomalylab.reporting.readme import update_readme

print("README.md and RESULTS.md", "updated" if update_readme() else "already up to date")
