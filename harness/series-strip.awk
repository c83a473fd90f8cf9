# harness/series.sh's cutter: print the input file less the lines of each
# block in -v blocks (one a line: "/START/,/END/", "/START/,/END/+N"
# (through N lines after END's: a block that ends with lines found
# elsewhere too, such as a function's "}"), "/START/,$" or "/LINE/";
# START, END and LINE are awk regexps, matched anywhere in a line),
# and with the line of each "/LINE/ was TEXT" block printed as TEXT
# ("\t" in it: a tab): a line a later patch changes, TEXT what it was
# before. A block whose start matches no line or more than one, that
# has no end, that overlaps another, or that is none of the five forms
# fails (exit 2, a message on stderr). The blank line after a block
# goes with it when one precedes it too, and the one before it when an
# #else or #endif follows (no double blank lines, none before a closing
# #endif); a block that runs to the end takes the blank line before it.
# Tested by harness/tests/series-strip.sh.
{ line[NR] = $0 }
END {
	nb = split(blocks, b, "\n")
	for (i = 1; i <= nb; i++) {
		if (b[i] == "")
			continue
		spec = b[i]
		was = ""
		extra = 0
		if (spec ~ /^\/.*\/ was ./) {
			k = index(spec, "/ was ")
			start = substr(spec, 2, k - 2)
			stop = ""
			was = substr(spec, k + 6)
			gsub(/\\t/, "\t", was)
		} else if (spec ~ /^\/.*\/,\/.*\/(\+[0-9]+)?$/) {
			k = index(spec, "/,/")
			start = substr(spec, 2, k - 2)
			stop = substr(spec, k + 3)
			# "/END/" or "/END/+N"
			m = match(stop, /\/(\+[0-9]+)?$/)
			extra = substr(stop, m + 2) + 0
			stop = substr(stop, 1, m - 1)
		} else if (spec ~ /^\/.*\/,\$$/) {
			start = substr(spec, 2, length(spec) - 4)
			stop = "\n"	# matches no line: the block runs to the end
			eof = 1
		} else if (spec ~ /^\/.*\/$/) {
			start = substr(spec, 2, length(spec) - 2)
			stop = ""
		} else {
			print "bad block " spec > "/dev/stderr"; exit 2
		}
		s = 0
		for (j = 1; j <= NR; j++)
			if (line[j] ~ start) {
				if (s) { print "block " spec ": more than one line matches its start" > "/dev/stderr"; exit 2 }
				s = j
			}
		if (!s) { print "block " spec " matches no line" > "/dev/stderr"; exit 2 }
		if (was != "") {
			if (gone[s] || s in as) { print "block " spec " overlaps another" > "/dev/stderr"; exit 2 }
			as[s] = was
			continue
		}
		e = s
		if (eof) {
			# The blank line before it goes too: no blank line at
			# the end of the file.
			e = NR
			eof = 0
			if (s > 1 && line[s - 1] == "" && !gone[s - 1])
				gone[s - 1] = 1
		} else if (stop != "") {
			for (e = s + 1; e <= NR && line[e] !~ stop; e++)
				;
			if (e > NR) { print "block " spec ": no end after line " s > "/dev/stderr"; exit 2 }
			e += extra
			if (e > NR) { print "block " spec ": runs past the last line" > "/dev/stderr"; exit 2 }
		}
		for (j = s; j <= e; j++) {
			if (gone[j] || j in as) { print "block " spec " overlaps another" > "/dev/stderr"; exit 2 }
			gone[j] = 1
		}
		if (line[s - 1] == "" && s > 1 && line[e + 1] == "" && e < NR)
			gone[e + 1] = 1
		else if (line[s - 1] == "" && s > 1 && line[e + 1] ~ /^#(else|endif)/)
			gone[s - 1] = 1
	}
	for (j = 1; j <= NR; j++)
		if (j in as)
			print as[j]
		else if (!gone[j])
			print line[j]
}
