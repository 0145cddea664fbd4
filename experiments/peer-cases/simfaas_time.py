"""Times SimFaaS on its own steady-state example (the case of simfaas-steady.toml).

    python3 -m venv /tmp/simfaas && /tmp/simfaas/bin/pip install simfaas==0.2.2
    /tmp/simfaas/bin/python experiments/peer-cases/simfaas_time.py
"""

import time

from simfaas.ServerlessSimulator import ServerlessSimulator

start = time.time()
sim = ServerlessSimulator(
    arrival_rate=0.9,
    warm_service_rate=1 / 1.991,
    cold_service_rate=1 / 2.244,
    expiration_threshold=600,
    max_time=1e6,
)
sim.generate_trace(debug_print=False, progress=False)
wall = time.time() - start
print(f"SimFaaS: {sim.total_req_count} requests, {sim.total_cold_count} cold starts, {wall:.2f} s")
