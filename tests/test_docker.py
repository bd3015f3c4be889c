"""The image, built and run: its API and workers in containers on this machine's PostgreSQL and
Redis, an enriched paper read through the API, and a worker container killed mid-job.

It needs a Docker engine and the machine's services, so it runs only when
PAPERLENS_TEST_DOCKER_DATABASE_URL and PAPERLENS_TEST_DOCKER_REDIS_URL name them (.ci/run sets
both). The database's schema is dropped and the Redis database flushed, before and after:
name ones that hold nothing else (never Redis db 0). PAPERLENS_TEST_DOCKER_BASE_IMAGE and
PAPERLENS_TEST_DOCKER_CA_BUNDLE give the build its base image and a CA bundle for pip, on
machines that reach no image registry (docs/operations.md, "Building the image").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from redis import Redis
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.utils import parse_composite_key
from sqlalchemy import create_engine, text

from paperlens import job_metrics, keys
from paperlens.embedded_redis import free_port
from paperlens.job_queue import SERIALIZER
from paperlens.precompute import read_progress
from paperlens.settings import Settings
from tests.support import ROOT, eventually

DATABASE_URL = os.environ.get("PAPERLENS_TEST_DOCKER_DATABASE_URL")
REDIS_URL = os.environ.get("PAPERLENS_TEST_DOCKER_REDIS_URL")
BASE_IMAGE = os.environ.get("PAPERLENS_TEST_DOCKER_BASE_IMAGE")
CA_BUNDLE = os.environ.get("PAPERLENS_TEST_DOCKER_CA_BUNDLE")
IMAGE = "paperlens:test"
# Inside the build context, where .dockerignore lets a CA bundle through.
CONTEXT_CA = ROOT / "build" / "docker" / "ca.pem"
DEMO_PAPERS = 59
MRL = "arxiv:2205.13147"

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL and REDIS_URL),
    reason="set PAPERLENS_TEST_DOCKER_DATABASE_URL and PAPERLENS_TEST_DOCKER_REDIS_URL",
)


def logs(container: str) -> str:
    """What a container wrote, standard output and error together."""
    done = subprocess.run(
        ["docker", "logs", container], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout + done.stderr


def docker(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"docker {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@dataclass
class Deployment:
    """Containers of the image on the host's network, sharing one data volume as compose's
    services do, and the services they use."""

    database_url: str
    redis_url: str
    port: int = field(default_factory=free_port)
    name: str = field(default_factory=lambda: f"pltest-{uuid.uuid4().hex[:8]}")
    containers: list[str] = field(default_factory=list)

    def options(self) -> list[str]:
        settings = {
            "PAPERLENS_DATABASE_URL": self.database_url,
            "PAPERLENS_REDIS_URL": self.redis_url,
            "PAPERLENS_HOST": "127.0.0.1",
            "PAPERLENS_PORT": str(self.port),
            "PAPERLENS_SOURCES": "none",
            "PAPERLENS_LOG_FORMAT": "json",
            # Workers look for dead workers' jobs every few seconds instead of every minute.
            "PAPERLENS_RQ_MAINTENANCE_INTERVAL_SECONDS": "5",
        }
        env = [part for name, value in settings.items() for part in ("-e", f"{name}={value}")]
        return ["--network", "host", "-v", f"{self.name}:/data", *env]

    def command(self, *args: str, timeout: float = 300) -> str:
        return docker("run", "--rm", *self.options(), IMAGE, *args, timeout=timeout)

    def start(self, role: str, *args: str) -> str:
        container = f"{self.name}-{role}"
        docker("run", "-d", "--name", container, *self.options(), IMAGE, *args)
        self.containers.append(container)
        return container

    def remove(self) -> None:
        for container in self.containers:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", "-f", self.name], capture_output=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def empty_services(database_url: str, redis: Redis) -> None:
    redis.flushdb()
    engine = create_engine(Settings(database_url=database_url).sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="module")
def image() -> str:
    """The image as `docker build` makes it from this checkout."""
    build_args = []
    if BASE_IMAGE:
        build_args += ["--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]
    if CA_BUNDLE:
        CONTEXT_CA.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CA_BUNDLE, CONTEXT_CA)
        build_args += ["--build-arg", f"PIP_CA_BUNDLE={CONTEXT_CA.relative_to(ROOT)}"]
    started = time.monotonic()
    subprocess.run(
        ["docker", "build", "--network", "host", "--quiet", *build_args, "-t", IMAGE, str(ROOT)],
        check=True,
        timeout=1800,
    )
    size = int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE))
    print(f"image {IMAGE} built in {time.monotonic() - started:.0f} s: {size / 2**20:,.0f} MiB")
    return IMAGE


@pytest.fixture
def deployment(image: str) -> Iterator[Deployment]:
    assert DATABASE_URL and REDIS_URL
    redis = Redis.from_url(REDIS_URL)
    assert int(redis.connection_pool.connection_kwargs.get("db", 0)) != 0, "never flush db 0"
    empty_services(DATABASE_URL, redis)
    deployed = Deployment(DATABASE_URL, REDIS_URL)
    try:
        yield deployed
    finally:
        for container in deployed.containers:
            print(f"--- {container}\n{logs(container)[-3000:]}")
        deployed.remove()
        empty_services(DATABASE_URL, redis)


def started_bulk_job(redis: Redis) -> str | None:
    for entry in redis.zrange(StartedJobRegistry(keys.QUEUE_BULK, connection=redis).key, 0, -1):
        job_id, _execution = parse_composite_key(
            entry.decode() if isinstance(entry, bytes) else str(entry)
        )
        return job_id
    return None


def test_the_image_serves_enriched_papers_and_a_killed_worker_container_loses_no_job(
    deployment: Deployment,
) -> None:
    assert REDIS_URL
    redis = Redis.from_url(REDIS_URL)
    assert "Store is up to date" in deployment.command("migrate")
    assert f"{DEMO_PAPERS} new" in deployment.command("ingest", "demo")
    deployment.start("api", "api")
    first_worker = deployment.start("worker1", "worker")

    def answers() -> bool:
        return requests.get(deployment.url("/healthz"), timeout=2).ok

    eventually(answers, 120, "the API container answers", ignoring=(requests.RequestException,))
    assert f"Enriched {DEMO_PAPERS} of {DEMO_PAPERS} papers" in deployment.command("precompute")

    paper = requests.get(deployment.url(f"/api/v1/papers/{MRL}"), timeout=10)
    assert paper.status_code == 200, paper.text
    body = paper.json()
    assert body["title"].startswith("Matryoshka Representation Learning")
    assert body["related"], "no related papers"
    assert redis.hget(keys.INDEX_INFO, "ranker") == b"hybrid"  # what `make run` serves

    # A second run: its worker container is killed while the job runs (the index build).
    deployment.command("precompute", "--no-wait")
    run = eventually(lambda: started_bulk_job(redis), 60, "a worker takes the run", interval=0.02)
    docker("kill", first_worker)
    job = Job.fetch(run, connection=redis, serializer=SERIALIZER)
    assert job.get_status() != JobStatus.FINISHED, "the run ended before the kill"

    second_worker = deployment.start("worker2", "worker")
    eventually(
        lambda: job.get_status(refresh=True) == JobStatus.FINISHED,
        180,
        "the killed run finishes on the new worker",
        interval=0.5,
    )
    eventually(
        lambda: read_progress(redis, run).enriched == DEMO_PAPERS,
        60,
        "every paper of the run is enriched",
    )
    figures = {f.job: f for f in job_metrics.read_all(redis)}
    assert figures["precompute_all"].count == 2  # the first run and the taken-up second
    assert figures["precompute_all"].failures == 0
    assert "jobs of dead workers handed to RQ as abandoned" in logs(second_worker)
    again = requests.get(deployment.url(f"/api/v1/papers/{MRL}"), timeout=10)
    assert again.status_code == 200 and again.json()["related"]
