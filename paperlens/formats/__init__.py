"""Reading lists in the formats reference managers read and write: BibTeX, CSL-JSON, RIS, CSV."""
