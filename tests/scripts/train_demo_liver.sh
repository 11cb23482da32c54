#!/bin/sh
# Issue 7's bar: a small UNet (models/presets/Demo_Liver.txt) trained on the CPU on phantom data reaches a
# liver validation Dice of at least 0.90. Usage: train_demo_liver.sh LITS WORKDIR [DEVICE]
set -eu
lits="$1"
work="$2"
device="${3:-cpu}"
rm -rf "$work"
"$lits" synth --out "$work/lits" --train 12 --test 0 --seed 1 > /dev/null
"$lits" convert --in "$work/lits" --out "$work/store" > /dev/null
"$lits" train --setup Demo_Liver.txt --data "$work/store" --save "$work/runs" --device "$device" --no-date
