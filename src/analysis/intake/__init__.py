"""Raw coded tables in, validated rows out: reading CSV folders and workbooks, normalising what coders type, validation against the codebook, problem records."""
