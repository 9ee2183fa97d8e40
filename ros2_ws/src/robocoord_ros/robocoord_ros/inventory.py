"""Fleet inventory (``kind: fleet-inventory``): the one description of a fleet that the launch
file, ``robocoord fleet up`` and the tests all turn into the same node graph.

Imports only pydantic (through :mod:`robocoord.config`), so the launch file can load it on a
robot without rclpy, torch or pybullet being imported first.

Frames and units: home poses are in the world frame (x forward, y left, z up) in metres and
radians; rates in Hz; times in ms or s as the field name says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from robocoord.config import StrictModel, load_config

Backend = Literal["sim", "hil", "hardware"]
BACKENDS: tuple[Backend, ...] = ("sim", "hil", "hardware")
# A robot's port in ``hil``: the virtual MCU assigns the pty at bring-up.
AUTO_PORT = "auto"


class HomePose(StrictModel):
    x_m: float
    y_m: float
    yaw_rad: float = 0.0


class Point2D(StrictModel):
    x_m: float
    y_m: float


class Robot(StrictModel):
    id: NonNegativeInt = Field(description="robot id on the wire (firmware robot_id) and in topic names")
    backend: Backend | None = Field(None, description="per-robot backend; default: the fleet's backend")
    port: str = Field(AUTO_PORT, min_length=1, description="serial port or pyserial URL; 'auto' in hil")
    home: HomePose = Field(description="home pose = Idle station, world frame")
    role: str = Field("worker", min_length=1)
    work_station: Point2D | None = Field(None, description="warehouse work station, world frame [m]")
    latent: list[float] | None = Field(
        None, min_length=1, max_length=3, description="GMFS latent position in [0, 1]^d; default: scaled home"
    )

    @field_validator("latent")
    @classmethod
    def _unit_cube(cls, latent: list[float] | None) -> list[float] | None:
        if latent is not None and not all(0.0 <= v <= 1.0 for v in latent):
            raise ValueError(f"every coordinate must lie in [0, 1], found {latent}")
        return latent

    @property
    def namespace(self) -> str:
        return f"robot_{self.id}"


class WarehouseSection(StrictModel):
    """Discrete task-state bookkeeping of the warehouse task (the same rules as robocoord.sim's warehouse)."""

    home_radius_m: PositiveFloat = Field(0.2, description="this close to home: Idle")
    work_radius_m: PositiveFloat = Field(0.3, description="this close to the work station: Working")
    congestion_penalty_L: float = Field(1.0, ge=0.0, description="L in base(s) * max(0.4, 1 - L c)")
    goto_rate_hz: PositiveFloat = Field(20.0, le=200.0, description="rate of the low-level go-to controller")
    cruise_speed_m_s: PositiveFloat = Field(0.5, le=2.0)


class SafeNavSection(StrictModel):
    """The safe_nav arena (robocoord.sim's SafeNavParams): hil builds it around the robot; the policy
    controller checks it against the artifact's contract."""

    grid_cells: int = Field(6, ge=4, le=15, description="cells per side (cell ids travel as uint8)")
    cell_size_m: PositiveFloat = Field(0.5, le=5.0)


class TeamPushSection(StrictModel):
    """The team_push task (robocoord.sim's TeamPushParams): hil builds the box in the plant; the policy
    controller checks goal and box against the artifact's contract. World frame: the box starts at the
    origin, the goal lies ``goal_distance_m`` along +x; the robots' homes are their start poses behind it."""

    box_size_m: PositiveFloat = Field(0.4, le=2.0, description="edge of the square box")
    box_mass_kg: PositiveFloat = Field(1.2, description="box mass (the plant's box in hil)")
    box_friction: float = Field(
        0.5, ge=0.0, description="box-floor lateral friction (the plant's box in hil)"
    )
    goal_distance_m: PositiveFloat = Field(1.5, le=10.0, description="box start to goal along +x")
    goal_tolerance_m: PositiveFloat = Field(
        0.15, description="box this close to the goal: the episode is won"
    )


class PolicySection(StrictModel):
    artifact: Path | None = Field(
        None, description="policy .onnx; relative paths are from the inventory file"
    )
    task: Literal["warehouse", "safe_nav", "team_push"] = Field(
        "warehouse",
        description="warehouse (gmfs policies), safe_nav (rcmdp policies) or team_push (drigm policies)",
    )
    warehouse: WarehouseSection = WarehouseSection()
    safe_nav: SafeNavSection = SafeNavSection()
    team_push: TeamPushSection = TeamPushSection()


class RatesSection(StrictModel):
    telemetry_hz: PositiveFloat = Field(100.0, description="firmware telemetry rate the bridge expects")
    rate_band_fraction: PositiveFloat = Field(
        0.2, lt=1.0, description="supervisor warns when a measured rate leaves [1-f, 1+f] x its nominal"
    )
    latency_warn_ms: PositiveFloat = Field(5.0, description="supervisor warns above this policy latency p99")
    rtt_warn_ms: PositiveFloat = Field(5.0, description="supervisor warns above this serial round trip")
    diagnostics_hz: PositiveFloat = Field(2.0, le=50.0)


class LinkSection(StrictModel):
    baud: PositiveInt = 921600
    watchdog_ms: int = Field(200, ge=20, le=5000, description="firmware motor watchdog")
    heartbeat_hz: PositiveFloat = Field(10.0, le=100.0)
    telemetry_deadline_ms: PositiveFloat = Field(50.0, description="QoS deadline of the telemetry topics")
    link_lost_ms: PositiveFloat = Field(300.0, description="no telemetry for this long: link reported lost")


class LimitsSection(StrictModel):
    max_wheel_speed_rad_s: PositiveFloat = 20.0
    max_wheel_accel_rad_s2: PositiveFloat = 60.0
    max_linear_m_s: PositiveFloat = 0.5
    max_angular_rad_s: PositiveFloat = 3.0


class LocalisationSection(StrictModel):
    """Where each robot's world pose comes from (what the go-to controller and the task state use)."""

    source: Literal["odom", "mocap", "external"] = Field(
        "odom",
        description="odom: the bridge's wheel odometry (drifts when robots push each other); "
        "mocap: a motion-capture stream through mocap_bridge (hil: the plant's ground truth); "
        "external: another node (your localiser) publishes /robot_<id>/pose. "
        "Robots on the sim backend always use sim_world's odom, which is ground truth",
    )
    mocap_listen: str = Field("127.0.0.1", min_length=1, description="address mocap_bridge binds")
    mocap_port: int = Field(
        0, ge=0, le=65535, description="UDP port of the mocap stream; 0: a free port (hil only)"
    )
    mocap_rate_hz: PositiveFloat = Field(100.0, le=1000.0, description="mocap frame rate (hil streams at it)")
    objects: dict[str, int] = Field(
        default_factory=dict,
        description="named objects the mocap tracks, name -> mocap body id (team_push: {box: 200}); "
        "mocap_bridge publishes /objects/<name>/pose; in hil the plant streams the arena's body of that name",
    )

    @field_validator("objects")
    @classmethod
    def _object_names(cls, objects: dict[str, int]) -> dict[str, int]:
        for name, body in objects.items():
            if not name.isidentifier():
                raise ValueError(f"object name {name!r}: use letters, digits and _ (it becomes a topic name)")
            if not 0 <= body <= 0xFFFF:
                raise ValueError(f"object {name!r}: mocap body id {body} is outside 0..65535")
        if len(set(objects.values())) != len(objects):
            raise ValueError(f"two objects share a mocap body id: {objects}")
        return objects


class RecordingSection(StrictModel):
    enabled: bool | None = Field(None, description="None: on in hil, off otherwise")
    directory: Path = Path("runs/recordings")


class FleetInventory(StrictModel):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    backend: Backend = "hil"
    plant: Literal["kinematic", "pybullet"] = Field(
        "pybullet", description="plant of the virtual MCUs in hil"
    )
    plant_body: Literal["disc", "wheeled"] = Field(
        "disc", description="PyBullet robot body in hil/sim: disc (the warehouse's) or wheeled (URDF)"
    )
    seed: int = 0
    policy: PolicySection = PolicySection()
    rates: RatesSection = RatesSection()
    link: LinkSection = LinkSection()
    limits: LimitsSection = LimitsSection()
    recording: RecordingSection = RecordingSection()
    localisation: LocalisationSection = LocalisationSection()
    robots: list[Robot] = Field(min_length=1)

    @field_validator("robots")
    @classmethod
    def _unique_ids(cls, robots: list[Robot]) -> list[Robot]:
        seen: set[int] = set()
        for robot in robots:
            if robot.id in seen:
                raise ValueError(f"robot id {robot.id} appears twice")
            seen.add(robot.id)
        return robots

    @model_validator(mode="after")
    def _check_ports(self) -> FleetInventory:
        for index, robot in enumerate(self.robots):
            backend = self.backend_of(robot)
            if backend == "hardware" and robot.port == AUTO_PORT:
                raise ValueError(f"robots[{index}].port: a hardware robot needs a real port, found 'auto'")
        if len({len(r.latent) for r in self.robots if r.latent is not None}) > 1:
            raise ValueError("robots: latent positions must all have the same dimension")
        if any(r.latent is None for r in self.robots) and any(r.latent is not None for r in self.robots):
            raise ValueError("robots: give a latent position for every robot or for none")
        hardware_ports = [r.port for r in self.robots if self.backend_of(r) == "hardware"]
        if len(set(hardware_ports)) != len(hardware_ports):
            raise ValueError("robots: two hardware robots share a port")
        loc = self.localisation
        if loc.source == "mocap" and loc.mocap_port == 0 and hardware_ports:
            raise ValueError(
                "localisation.mocap_port: hardware robots need the UDP port your mocap stream is sent to, found 0"
            )
        clash = sorted(set(loc.objects.values()) & {r.id for r in self.robots})
        if clash:
            raise ValueError(f"localisation.objects: mocap body ids {clash} are also robot ids")
        if self.policy.task == "team_push":
            if loc.source == "odom":
                raise ValueError(
                    "localisation.source: team_push needs the box pose (mocap with objects.box, or external: "
                    "your localiser publishes /objects/box/pose), found 'odom'"
                )
            if loc.source == "mocap" and "box" not in loc.objects:
                raise ValueError(
                    "localisation.objects: team_push on mocap needs the box's body id, e.g. {box: 200}"
                )
            if self.plant_body != "wheeled":
                raise ValueError("plant_body: team_push is trained on the wheeled body, found 'disc'")
        return self

    def backend_of(self, robot: Robot) -> Backend:
        return robot.backend or self.backend

    def with_backend(self, backend: Backend) -> FleetInventory:
        """The same fleet with every robot on ``backend`` (the launch argument ``backend:=``)."""
        data = self.model_dump()
        data["backend"] = backend
        for robot in data["robots"]:
            robot["backend"] = None
        return FleetInventory.model_validate(data)

    def recording_on(self) -> bool:
        return self.recording.enabled if self.recording.enabled is not None else self.backend == "hil"

    def uses_pose_topic(self, robot: Robot) -> bool:
        """Whether ``robot`` takes its pose from ``pose`` (sim robots never: their odom is ground truth)."""
        return self.localisation.source != "odom" and self.backend_of(robot) != "sim"

    def uses_mocap(self, robot: Robot) -> bool:
        """Whether ``robot``'s pose comes through mocap_bridge from a mocap stream."""
        return self.localisation.source == "mocap" and self.backend_of(robot) != "sim"

    def arena(self) -> str:
        """The world of the policy's task (robocoord.sim.worlds): safe_nav's walls and obstacles, team_push's box."""
        return self.policy.task if self.policy.task in ("safe_nav", "team_push") else "open"

    def arena_params(self) -> dict[str, float | int]:
        if self.policy.task == "safe_nav":
            return self.policy.safe_nav.model_dump()
        if self.policy.task == "team_push":
            return self.policy.team_push.model_dump()
        return {}

    def robot_ids(self) -> list[int]:
        return [r.id for r in self.robots]

    def work_station_of(self, robot: Robot) -> Point2D:
        """The robot's work station; default: the centroid of all homes."""
        if robot.work_station is not None:
            return robot.work_station
        n = len(self.robots)
        return Point2D(
            x_m=sum(r.home.x_m for r in self.robots) / n, y_m=sum(r.home.y_m for r in self.robots) / n
        )

    def latent_positions(self) -> list[list[float]]:
        """Latent positions in robot order; default: homes min-max scaled into [0, 1]^2."""
        if all(r.latent is not None for r in self.robots):
            return [list(r.latent or []) for r in self.robots]
        xs = [r.home.x_m for r in self.robots]
        ys = [r.home.y_m for r in self.robots]

        def scale(v: float, lo: float, hi: float) -> float:
            return (v - lo) / (hi - lo) if hi > lo else 0.5

        return [[scale(x, min(xs), max(xs)), scale(y, min(ys), max(ys))] for x, y in zip(xs, ys, strict=True)]


def load_inventory(path: Path | str, overrides: tuple[str, ...] | list[str] = ()) -> FleetInventory:
    """Load and validate an inventory; a relative artifact path is resolved against the file's folder."""
    path = Path(path)
    inventory = load_config(path, overrides, expect_kind="fleet-inventory")
    if not isinstance(inventory, FleetInventory):
        raise TypeError(f"{path}: kind fleet-inventory did not load as FleetInventory")
    artifact = inventory.policy.artifact
    if artifact is not None and not artifact.is_absolute():
        inventory.policy.artifact = (path.parent / artifact).resolve()
    return inventory
