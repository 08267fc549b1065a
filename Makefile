# Loket: `make run` (whole system locally) and `make test` (every test).
# Everything below installs what it needs; nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAGE ?= dev
export PORT

.PHONY: run test lint check bench fuzz deploy destroy redrive package clean system-deps

# checkov in a venv of its own: it pins boto3/botocore older than Loket's.
CHECKOV_VENV := .venv-checkov

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checks.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checks.txt
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian chromium for browser tests ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@# zbar decodes the tickets' QR codes in the tests, as a door scanner would.
	@ldconfig -p 2>/dev/null | grep -q libzbar.so.0 || { \
	  echo "Installing Debian libzbar0 for the ticket tests ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libzbar0 >/dev/null; }

run: $(VENV)/.installed
	$(PY) -m local.run --port $(PORT)

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed system-deps
	$(PY) -m pytest -n 2 --dist loadfile -q

lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint infra/*.yaml

# cfn-lint and checkov on the hand-written and the packaged templates (also part of make test).
check: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(PY) -m pytest -q tests/test_templates.py

bench: $(VENV)/.installed
	$(PY) -m bench.run
	$(PY) -m bench.moto_throughput

# Schemathesis over the integrator API with many examples per operation (make test runs 10).
fuzz: $(VENV)/.installed
	LOKET_FUZZ_EXAMPLES=$(or $(EXAMPLES),200) $(PY) -m pytest -q tests/test_api_fuzz.py

package: $(VENV)/.installed
	$(PY) -m local.deploy package --stage $(STAGE)

deploy: $(VENV)/.installed
	$(PY) -m local.deploy deploy --stage $(STAGE)

# Keeps every table, bucket, queue and the user pool unless DELETE_DATA=<the stage's name>.
destroy: $(VENV)/.installed
	$(PY) -m local.deploy destroy --stage $(STAGE) $(if $(DELETE_DATA),--delete-data $(DELETE_DATA))

# QUEUE=payment-events, VENUE:webhooks or VENUE:onsale: the dead-letter queue's messages back to the queue.
redrive: $(VENV)/.installed
	$(PY) -m local.ops redrive --stage $(STAGE) --queue $(QUEUE)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache
