"""The robot side of a team_push ``drigm`` policy (controllers/team_push.py, the policy controller's
DrigmStrategy): the observation built from localised poses is the sim's, the contract's start poses are the
sim's episode starts, per-robot execution in the sim equals the team executor, and the episode ends (robots
stop) when the box is at the goal."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from robocoord.controllers.drigm_executor import DrigmTeamExecutor
from robocoord.controllers.policy import PolicyRuntime
from robocoord.controllers.team_push import (
    STOP_ACTION,
    TeamPushAgent,
    TeamPushSpec,
    TeamPushSpecError,
    episode_starts,
    observation,
)
from robocoord.sim.config import TeamPushParams
from robocoord.sim.tasks import team_push as sim_team_push
from robocoord.sim.tasks.team_push import PRIMITIVES_UNICYCLE, TeamPushParallelEnv
from robocoord.training.drigm.config import EnvSpec, LearnerSpec
from robocoord.training.drigm.learner import DrigmLearner, TeamDims
from robocoord.training.drigm.train import export_agent
from robocoord.training.export import make_provenance
from robocoord_ros.policy_logic import (
    STOP,
    ContractMismatch,
    GoTo,
    PolicyLoop,
    Pose2D,
    TickInput,
    Twist2D,
    WarehouseStations,
)
from robocoord_ros.strategies import DrigmStrategy, build_strategy

ENV = EnvSpec(task="team_push", n_agents=2, episode_steps=60)
DIMS = TeamDims(n_agents=2, n_actions=4, obs_dim=8, state_dim=14)


def _export(tmp_path: Path, env: EnvSpec = ENV, dims: TeamDims = DIMS, rate_hz: float = 4.0) -> Path:
    learner = DrigmLearner(mixer="vdn", robust="none", rho=0.0, dims=dims, spec=LearnerSpec(), seed=0)
    with torch.no_grad():  # sharpen the random init so the greedy actions vary
        for p in learner.agent.parameters():
            p.mul_(10.0)
    exported = export_agent(
        learner,
        tmp_path / "policy.onnx",
        env=env,
        control_rate_hz=rate_hz,
        provenance=make_provenance("drigm-test", seed=0, git_sha="test"),
    )
    return Path(exported.path)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export(tmp_path_factory.mktemp("team_push_artifact"))


def test_the_contracts_task_is_the_sims(artifact: Path):
    spec = TeamPushSpec.from_contract(PolicyRuntime(artifact).contract)
    params = TeamPushParams(n_robots=2, max_decisions=60)
    assert np.allclose(spec.primitives_unicycle, PRIMITIVES_UNICYCLE)
    assert spec.goal_xy_m == (params.goal_distance_m, 0.0) and spec.max_decisions == 60
    assert spec.decision_period_s == params.decision_period_s
    for seed in (0, 1, 1009, 12345):  # the same draws as the sim's episode reset
        assert np.array_equal(episode_starts(spec, seed), sim_team_push.episode_starts(params, seed))


def test_observation_from_poses_equals_the_sims_observation(artifact: Path):
    spec = TeamPushSpec.from_contract(PolicyRuntime(artifact).contract)
    env = TeamPushParallelEnv(TeamPushParams(n_robots=2, max_decisions=60))
    rng = np.random.default_rng(0)
    try:
        env.reset(seed=4)
        for step in range(12):
            if step:
                env.step({a: int(rng.integers(0, 4)) for a in env.possible_agents})
            poses = env.plant.poses_world()
            speed, _ = env.plant.body_velocities()
            box = env.box_pose_world()
            expected = env.observation_array()
            for i in range(2):
                mine = observation(spec, poses[i], float(speed[i]), box)
                assert mine == pytest.approx(expected[i], abs=1e-6)
    finally:
        env.close()


def test_robots_acting_alone_in_the_sim_act_as_the_team_executor_and_stop_at_the_goal(artifact: Path):
    runtime = PolicyRuntime(artifact)
    agents = [TeamPushAgent(runtime, i) for i in range(2)]
    team = DrigmTeamExecutor(runtime)
    env = TeamPushParallelEnv(TeamPushParams(n_robots=2, max_decisions=60))
    chosen: set[int] = set()
    try:
        env.reset(seed=1)
        for _ in range(20):
            poses = env.plant.poses_world()
            speed, _ = env.plant.body_velocities()
            box = env.box_pose_world()
            mine = [agents[i].decide(poses[i], float(speed[i]), box) for i in range(2)]
            assert mine == team.act(env.observation_array()).tolist()
            chosen.update(mine)
            _, _, term, trunc, _ = env.step({a: mine[i] for i, a in enumerate(env.possible_agents)})
            if any(term.values()) or any(trunc.values()):
                break
    finally:
        env.close()
    assert len(chosen) > 1  # the policy really varied its primitive
    agent = agents[0]
    taken = agent.decisions
    at_goal = (spec_goal := agent.spec.goal_xy_m)[0] - 0.05, spec_goal[1], 0.0
    assert agent.decide((1.0, 0.0, 0.0), 0.0, at_goal) == STOP_ACTION
    assert agent.done and agent.reached_goal and agent.decisions_to_goal == taken
    assert agent.decide((1.0, 0.0, 0.0), 0.0, (0.0, 0.0, 0.0)) == STOP_ACTION  # over: stays stopped
    assert agent.twist(STOP_ACTION) == (0.0, 0.0)


def test_a_deadline_artifact_ends_the_robots_episode_when_the_sim_delivers_to_the_near_bay(tmp_path: Path):
    task = {"goal_distance_m": 2.5, "near_bay_m": 1.0, "near_bay_bonus": 22.8, "decision_period_s": 0.5}
    env_spec = EnvSpec(task="team_push", n_agents=2, episode_steps=14, params=task)
    runtime = PolicyRuntime(_export(tmp_path, env=env_spec, rate_hz=2.0))
    agent = TeamPushAgent(runtime, 0)
    assert agent.spec.near_bay_xy_m == (1.0, 0.0) and agent.spec.max_decisions == 14
    env = TeamPushParallelEnv(TeamPushParams(n_robots=2, max_decisions=14, **task))
    try:
        env.reset(seed=2)
        sim_where = None
        while env.agents:
            poses = env.plant.poses_world()
            speed, _ = env.plant.body_velocities()
            box = env.box_pose_world()
            agent.decide(poses[0], float(speed[0]), box)  # the robot's own view; the sim's script drives
            assert not agent.done
            push = 1 if box[0] < 0.85 else STOP_ACTION  # forward, then let go in the bay
            _, _, _, _, info = env.step({a: push for a in env.possible_agents})
            sim_where = info["robot_0"]["delivered_to"]
        assert sim_where == "near_bay"
        poses = env.plant.poses_world()
        assert agent.decide(poses[0], 0.0, env.box_pose_world()) == STOP_ACTION
        assert agent.done and agent.reached_goal and agent.delivered == "near_bay"
        assert agent.decisions_to_goal == env.decisions
    finally:
        env.close()


def test_the_episode_ends_after_its_decisions(artifact: Path):
    agent = TeamPushAgent(PolicyRuntime(artifact), 1)
    for _ in range(agent.spec.max_decisions):
        agent.decide((-0.5, 0.17, 0.0), 0.0, (0.0, 0.0, 0.0))
    assert not agent.done
    assert agent.decide((-0.5, 0.17, 0.0), 0.0, (0.0, 0.0, 0.0)) == STOP_ACTION
    assert agent.done and not agent.reached_goal and agent.decisions_to_goal is None


def _strategy(artifact: Path, fleet=(4, 7), robot_id=7, **team_push) -> tuple[PolicyRuntime, DrigmStrategy]:
    runtime = PolicyRuntime(artifact)
    strategy = build_strategy(
        runtime,
        "team_push",
        robot_id=robot_id,
        fleet_ids=list(fleet),
        latent_positions=np.zeros((len(fleet), 2)),
        stations=WarehouseStations((0.0, 0.0), (0.0, 0.0)),
        seed=0,
        team_push=team_push or None,
    )
    assert isinstance(strategy, DrigmStrategy)
    return runtime, strategy


def test_policy_loop_holds_the_primitive_and_stops_on_a_missing_box_or_stale_input(artifact: Path):
    runtime, strategy = _strategy(artifact, goal_distance_m=1.5, goal_tolerance_m=0.15, box_size_m=0.4)
    assert strategy.agent.agent_index == 1  # robot 7 is the second of the roster
    loop = PolicyLoop(runtime, strategy, GoTo(0.5, 3.0), stale_after_s=0.2)
    pose, box = Pose2D(-0.5, 0.17, 0.0), Pose2D(0.0, 0.0, 0.0)
    fresh = TickInput(pose, 10.0, {}, 0.0, {"box": box})
    decision = loop.decide(10.0, fresh)
    assert not decision.used_safe_action and decision.reason == "ok"
    v, w = PRIMITIVES_UNICYCLE[int(decision.action)]  # type: ignore[index]
    assert loop.control(10.05, fresh) == Twist2D(v, w)  # the primitive itself, not a go-to command
    assert loop.control(10.3, fresh) == STOP  # stale
    no_box = loop.decide(11.0, TickInput(pose, 11.0, {}, 0.0, {}))
    assert no_box.used_safe_action and loop.control(11.0, TickInput(pose, 11.0, {}, 0.0, {})) == STOP
    bad_box = TickInput(pose, 12.0, {}, 0.0, {"box": Pose2D(math.nan, 0.0, 0.0)})
    assert loop.decide(12.0, bad_box).reason == "non_finite"


def test_a_drigm_artifact_that_does_not_fit_the_robot_is_refused(artifact: Path, tmp_path: Path):
    with pytest.raises(
        ContractMismatch, match=r"team_push.goal_distance_m: robot has 2, the artifact was trained with 1.5"
    ):
        _strategy(artifact, goal_distance_m=2.0)
    with pytest.raises(ContractMismatch, match="trained for 2 robots, the fleet has 3"):
        _strategy(artifact, fleet=(4, 7, 9))
    with pytest.raises(ContractMismatch, match="task: robot runs 'warehouse'"):
        build_strategy(
            PolicyRuntime(artifact),
            "warehouse",
            robot_id=4,
            fleet_ids=[4, 7],
            latent_positions=np.zeros((2, 2)),
            stations=WarehouseStations((0.0, 0.0), (0.0, 0.0)),
            seed=0,
        )
    slow = _export(tmp_path / "slow", rate_hz=2.0)
    with pytest.raises(
        ContractMismatch, match="control_rate_hz 2 does not match the task's decision period 0.25 s"
    ):
        _strategy(slow)


def test_a_contract_without_the_task_spec_is_a_clear_error(artifact: Path):
    contract = PolicyRuntime(artifact).contract
    stripped = contract.model_copy(
        update={"family_params": {k: v for k, v in contract.family_params.items() if k != "team_push"}}
    )
    with pytest.raises(TeamPushSpecError, match="family_params.team_push missing: re-export"):
        TeamPushSpec.from_contract(stripped)
    spec = dict(contract.family_params["team_push"])
    del spec["goal_tolerance_m"]
    with pytest.raises(TeamPushSpecError, match=r"family_params.team_push.goal_tolerance_m missing"):
        TeamPushSpec.from_spec(spec)
