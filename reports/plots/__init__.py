"""The report's figures (matplotlib, PNG), drawn in one style (:mod:`.style`)."""
