"""Raw coded tables in, validated rows out: reading CSV folders and workbooks (and REDCap exports), normalising what coders type, validation against the codebook, problem records."""
