# The two commands of the README. Everything else here serves them.
.PHONY: run test setup-run setup-test lint lock clean

VENV := .venv
BIN := $(VENV)/bin

run: setup-run
	$(BIN)/tehuibao up

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

setup-run:
	bash core/bootstrap.sh run

setup-test:
	bash core/bootstrap.sh test

lint:
	$(BIN)/ruff check .

# For developers: re-resolve the locked dependencies after changing pyproject.toml.
lock:
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf var .pytest_cache
