"""Tools for the coders: the coding template, the REDCap dictionary, the manual, the double-coding sample and reliability report, the synthetic example and its second coder."""
