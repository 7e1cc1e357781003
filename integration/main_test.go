package integration

import (
	"os"
	"testing"

	"github.com/pppoed/pppoed/integration/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.Summary(m)) }
