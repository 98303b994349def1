"""Weekly rakuten-pipeline run from Apache Airflow 2, for teams that keep Airflow as their scheduler.

The DAG drives the HTTP API only (Python's standard library, nothing to install beside Airflow):
it starts a pipeline run with POST /pipeline-runs, then polls GET /pipeline-runs/{id} until the run
has succeeded (the task succeeds), failed or been cancelled (the task fails, naming the step).

Configuration, an Airflow Variable first, else an environment variable of the Airflow workers:
  rakuten_pipeline_url      / RAKUTEN_API_URL   base URL of the API (default http://127.0.0.1:8000)
  rakuten_pipeline_api_key  / RAKUTEN_API_KEY   an API key of the server, sent as x-api-key
  rakuten_pipeline_run      / RAKUTEN_PIPELINE_RUN  JSON body of POST /pipeline-runs (default {};
                            its fields are in the server's /docs)

Copy this file into the DAGs folder. It byte-compiles without Airflow (CI runs
`python3 -m py_compile` on it), and its functions can be called without Airflow too.
"""

import json
import os
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

try:
    from airflow import DAG
    from airflow.models import Variable
    from airflow.operators.python import PythonOperator
except ImportError:  # no Airflow here: the module still loads, without a DAG
    DAG = None

POLL_SECONDS = 30
RUN_TIMEOUT = timedelta(hours=6)  # the full catalogue: about half an hour on one 2-core machine
DONE_STATES = {"succeeded", "failed", "cancelled"}


def setting(variable, env, default=None):
    """An Airflow Variable if it is set, else an environment variable, else the default."""
    if DAG is not None:
        value = Variable.get(variable, None)
        if value is not None:
            return value
    return os.environ.get(env, default)


class ApiError(RuntimeError):
    """An HTTP error answer of the API, with its status and the server's message."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def call(method, url, api_key, body=None):
    """One JSON request to the API; an HTTP error is raised as an ApiError."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("accept", "application/json")
    request.add_header("x-api-key", api_key)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")[:500]
        raise ApiError(f"{method} {url}: HTTP {e.code}: {detail}", e.code) from None


def describe(run):
    """One line per step: kind, state, job and error."""
    lines = []
    for step in run.get("steps") or []:
        error = (step.get("error") or {}).get("message")
        job = f" (job {step['jobId']})" if step.get("jobId") else ""
        lines.append(f"  {step.get('kind')}: {step.get('state')}{job}" + (f": {error}" if error else ""))
    return "\n".join(lines) or "  (no step started yet)"


def run_pipeline(base_url=None, api_key=None, body=None, timeout=RUN_TIMEOUT, poll_seconds=POLL_SECONDS):
    """Starts a pipeline run and waits for its end; returns the run's id, raises unless it succeeded."""
    base_url = (base_url or setting("rakuten_pipeline_url", "RAKUTEN_API_URL", "http://127.0.0.1:8000")).rstrip("/")
    api_key = api_key or setting("rakuten_pipeline_api_key", "RAKUTEN_API_KEY")
    if not api_key:
        raise RuntimeError("no API key: set the Airflow Variable rakuten_pipeline_api_key (or RAKUTEN_API_KEY)")
    if body is None:
        body = json.loads(setting("rakuten_pipeline_run", "RAKUTEN_PIPELINE_RUN", "{}"))

    run = call("POST", f"{base_url}/pipeline-runs", api_key, body)
    run_id = run["id"]
    print(f"pipeline run {run_id} started: {run.get('state')}")
    deadline = time.monotonic() + timeout.total_seconds()
    last = None
    while run.get("state") not in DONE_STATES:
        if time.monotonic() > deadline:
            # The run goes on on the server; its id is in the message to follow it there.
            raise TimeoutError(f"pipeline run {run_id} still {run.get('state')} after {timeout}:\n{describe(run)}")
        time.sleep(poll_seconds)
        try:
            run = call("GET", f"{base_url}/pipeline-runs/{run_id}", api_key)
        except (ApiError, OSError) as e:  # OSError: URLError, timeouts, refused connections
            if isinstance(e, ApiError) and e.status < 500:
                raise  # a wrong key or an unknown run: polling again will not help
            # A restarting API server is not a failed run: keep polling until the deadline.
            print(f"pipeline run {run_id}: polling failed, retrying: {e}")
            continue
        progress = describe(run)
        if progress != last:
            print(f"pipeline run {run_id}: {run.get('state')}\n{progress}")
            last = progress

    if run["state"] != "succeeded":
        message = (run.get("error") or {}).get("message") or "no error message"
        raise RuntimeError(f"pipeline run {run_id} {run['state']}: {message}\n{describe(run)}")
    print(f"pipeline run {run_id} succeeded")
    return run_id


if DAG is not None:
    with DAG(
        dag_id="rakuten_pipeline_weekly",
        description="load -> prepare -> train -> evaluate -> predict through the rakuten-pipeline API",
        schedule="@weekly",  # Airflow >= 2.4 (schedule_interval before)
        start_date=datetime(2025, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["rakuten-pipeline"],
    ) as dag:
        PythonOperator(
            task_id="pipeline_run",
            python_callable=run_pipeline,
            # A retry would start a second run beside the first: the run reports its own failures.
            retries=0,
            execution_timeout=RUN_TIMEOUT + timedelta(minutes=10),
        )
