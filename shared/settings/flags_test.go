package settings

import "flag"

var update = flag.Bool("update", false, "rewrite README.md's settings table")
