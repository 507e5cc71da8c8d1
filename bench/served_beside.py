"""Requests per second of one path on ``muster serve``, this tree beside another commit.

    .venv/bin/python -m bench.served_beside --against HEAD~1
    .venv/bin/python -m bench.served_beside --against main --path '/v1/facts?limit=50' --rounds 7
    .venv/bin/python -m bench.served_beside --against HEAD~1 --uncached \
        --header 'Accept-Encoding: gzip' --path '/v1/facts?limit=50'
    .venv/bin/python -m bench.served_beside --against HEAD~1 --uncached --scale 1000 \
        --path '/v1/search?q=tex'

``bench/edge_cpu.py`` times a cached request in-process, with no server around it; some costs
show only in a server under load (the access log's did: the same in-process, 1.32x served).
Each round starts this tree's server and the other commit's (a temporary worktree, on this
checkout's packages), one after the other and in turn first, each alone on the server core with
its access log written to a file, warms it up and measures it with wrk from the other core; so a
noisy neighbour slows both alike. It prints each round, then the medians and their ratio. Each
serves a SQLite database of its own, migrated and loaded by its own code (so the two may differ in
schema), of the seed or, with ``--scale N``, of the synthetic bundles at N (bench/synthetic.py).
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.bench import free_port, muster_program, serve, wrk
from bench.load_speed import checkout
from bench.scale import EVERY_CORE, run_muster
from bench.synthetic import SEED_DATA, write_bundles

WARMUP_SECONDS = 2


def loaded_database(tree: Path | None, folder: Path, bundles: Path) -> str:
    """A SQLite database in ``folder``, migrated and loaded by the code of ``tree`` (this
    checkout's when None)."""
    folder.mkdir()
    url = f"sqlite:///{folder / 'muster.db'}"
    run_muster(url, "db", "upgrade", core=EVERY_CORE, tree=tree)
    run_muster(url, "load", str(bundles), core=EVERY_CORE, tree=tree)
    return url


def requests_per_second(
    tree: Path | None, workdir: Path, database_url: str, args: argparse.Namespace
) -> float:
    """One server, started with the code of ``tree`` (this checkout's when None), measured once;
    its log goes to the tree, or to ``workdir``."""
    port = free_port()
    command = [*muster_program(tree), "serve", "--port", str(port)]
    env = {
        "MUSTER_DATABASE_URL": database_url,
        "MUSTER_RESPONSE_CACHE": "0" if args.uncached else "1",
    }
    headers = {name.strip(): value.strip() for name, value in args.header}
    with serve("beside", command, port, cwd=tree or workdir, env=env) as server:
        url = server.base_url + args.path
        wrk(url, WARMUP_SECONDS, args.connections, headers)
        return wrk(url, args.duration, args.connections, headers).requests_per_second


def header_argument(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon:
        raise argparse.ArgumentTypeError(f"not NAME: VALUE: {text!r}")
    return name, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REF", required=True, help="the commit to compare")
    parser.add_argument("--path", default="/v1/forces", help="the path asked for")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--uncached", action="store_true", help="both servers without their response cache"
    )
    parser.add_argument(
        "--scale", type=int, help="serve the synthetic bundles at this scale, not the seed"
    )
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        type=header_argument,
        metavar="'NAME: VALUE'",
        help="sent with each request",
    )
    args = parser.parse_args()
    here: list[float] = []
    there: list[float] = []
    with tempfile.TemporaryDirectory(prefix="muster-beside-") as temporary:
        workdir = Path(temporary)
        bundles = SEED_DATA
        if args.scale is not None:
            bundles = write_bundles(workdir / "bundles", args.scale).root
        with checkout(args.against) as tree:
            our_database = loaded_database(None, workdir / "here", bundles)
            their_database = loaded_database(tree, workdir / "there", bundles)
            for number in range(1, args.rounds + 1):
                # In turn first, so that a machine that slows down or speeds up favours neither.
                if number % 2:
                    here.append(requests_per_second(None, workdir, our_database, args))
                    there.append(requests_per_second(tree, workdir, their_database, args))
                else:
                    there.append(requests_per_second(tree, workdir, their_database, args))
                    here.append(requests_per_second(None, workdir, our_database, args))
                print(
                    f"round {number}: this tree {here[-1]:,.0f} req/s, "
                    f"{args.against} {there[-1]:,.0f} req/s",
                    flush=True,
                )
    mine, theirs = statistics.median(here), statistics.median(there)
    print(
        f"{args.path}: median {mine:,.0f} req/s here, {theirs:,.0f} at {args.against}: "
        f"{mine / theirs:.2f}x"
    )


if __name__ == "__main__":
    main()
