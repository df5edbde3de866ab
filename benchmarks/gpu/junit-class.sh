#!/usr/bin/env bash
# Sourced by the device scripts (run from the staged /root/stage with $JAVA and $CP set):
#   junit_class CLASS[#method] LIMIT_SECONDS OUTDIR GREP_PATTERN
# runs one JUnit class with the console launcher under a time limit, writes OUTDIR/junit-<Class>.txt (with the exit
# code appended) and prints the lines matching GREP_PATTERN.
# CLASS may name one method as Class#method (JUnit's --select-method).
junit_class() {
  local t=$1 limit=$2 outdir=$3 pattern=$4 short=${1##*.} select=--select-class
  case $t in *#*) select=--select-method; short=${short/\#/-}; short=${short%%(*} ;; esac
  timeout "$limit" $JAVA -jar lib/junit-platform-console-standalone-*.jar execute --disable-banner \
      --disable-ansi-colors --details=tree -cp "$CP" "$select" "$t" --reports-dir "/tmp/junit-$short" \
      > "$outdir/junit-$short.txt" 2>&1
  echo "JUnit exit code $?" >> "$outdir/junit-$short.txt"
  echo "== $short"
  grep -E "$pattern" "$outdir/junit-$short.txt" | head -60
}
