"""What is timed and how: one definition per operation, the sizes each tier runs, verified
warmed-up timing, and the asv benchmarks declared from them."""
