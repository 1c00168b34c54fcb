"""What the machine is and how it behaved: devices present, its facts, peak FLOP/s and
bandwidth, how quiet it was while a run measured."""
