/* robocoord reference firmware on an Arduino-class board: the HAL around the portable core.
 *
 * Board: Arduino Mega 2560 (5 V, 16 MHz) or any board with 2 external interrupts per encoder pair.
 * Serial: USB serial `Serial` at 115200 8N1 (the host's SerialLink default).
 * Motor driver: TB6612FNG
 *   left  PWMA=D5  AIN1=D7  AIN2=D8        right PWMB=D6  BIN1=D9  BIN2=D10   STBY=D4 (high = enabled)
 * Encoders: quadrature, ENCODER_CPR counts per wheel revolution (after the gearbox)
 *   left  A=D2 (INT) B=D22                 right A=D3 (INT) B=D23
 * IMU: MPU-6050 on I2C (SDA=D20, SCL=D21), address 0x68, +-250 deg/s, +-2 g.
 * Battery: 2S pack through a 10k/4.7k divider on A0.
 *
 * Build: copy (or symlink) ../../rc_protocol.h rc_frame.h rc_frame.c rc_firmware.h rc_firmware.c next to
 * this .ino (the Arduino builder compiles every .c file in the sketch folder), then compile for the board.
 * Not built in CI (no Arduino toolchain there); the core it wraps is the one the C tests and the
 * virtual MCU run.
 */
#include <Arduino.h>
#include <Wire.h>

extern "C" {
#include "rc_firmware.h"
}

static const uint8_t ROBOT_ID = 0;           /* one id per robot; matches the host's --robot-id */
static const float ENCODER_CPR = 1440.0f;    /* counts per wheel revolution */
static const uint8_t PIN_PWM[2] = {5, 6}, PIN_IN1[2] = {7, 9}, PIN_IN2[2] = {8, 10}, PIN_STBY = 4;
static const uint8_t PIN_ENC_A[2] = {2, 3}, PIN_ENC_B[2] = {22, 23}, PIN_BATTERY = A0;
static const uint8_t MPU_ADDR = 0x68;
static const float SPEED_KP = 0.02f, SPEED_KI = 0.4f; /* PWM fraction per rad/s (and per rad) */

static rc_fw_t fw;                            /* the whole firmware state: no heap anywhere */
static volatile int32_t encoder_counts[2];
static int32_t last_counts[2];
static float setpoint_rad_s[2], measured_rad_s[2], integral[2];
static uint32_t last_speed_us;

static void on_left_a() { encoder_counts[0] += digitalRead(PIN_ENC_B[0]) ? -1 : 1; }
static void on_right_a() { encoder_counts[1] += digitalRead(PIN_ENC_B[1]) ? 1 : -1; } /* mirrored mount */

static int32_t counts(uint8_t wheel) {
    noInterrupts();
    int32_t c = encoder_counts[wheel];
    interrupts();
    return c;
}

/* ---- HAL ---- */
static size_t hal_uart_write(void *, const uint8_t *data, size_t len) {
    /* Whole frames or nothing: a partial frame would only cost the host a resync. */
    if ((size_t)Serial.availableForWrite() < len) {
        return 0;
    }
    return Serial.write(data, len);
}

static void hal_motor_set(void *, int32_t left_mrad_s, int32_t right_mrad_s) {
    setpoint_rad_s[0] = left_mrad_s * 0.001f;
    setpoint_rad_s[1] = right_mrad_s * 0.001f;
}

static void hal_encoder_read(void *, rc_encoders_t *out) {
    for (uint8_t w = 0; w < 2; ++w) {
        out->angle_mrad[w] = (int32_t)(counts(w) * (6283.185f / ENCODER_CPR));
        out->speed_mrad_s[w] = (int32_t)(measured_rad_s[w] * 1000.0f);
    }
}

static int16_t mpu_word() { return (int16_t)((Wire.read() << 8) | Wire.read()); }

static void hal_imu_read(void *, rc_imu_t *out) {
    Wire.beginTransmission(MPU_ADDR);
    Wire.write(0x3B); /* ACCEL_XOUT_H: accel x,y,z, temperature, gyro x,y,z */
    Wire.endTransmission(false);
    if (Wire.requestFrom(MPU_ADDR, (uint8_t)14) != 14) {
        return; /* keep the zeros the core initialised */
    }
    int16_t ax = mpu_word(), ay = mpu_word();
    mpu_word(); /* az */
    mpu_word(); /* temperature */
    mpu_word(); /* gx */
    mpu_word(); /* gy */
    int16_t gz = mpu_word();
    out->accel_x_mm_s2 = (int32_t)(ax * (9806.65f / 16384.0f));
    out->accel_y_mm_s2 = (int32_t)(ay * (9806.65f / 16384.0f));
    out->yaw_rate_mrad_s = (int32_t)(gz * (1000.0f * 0.0174533f / 131.0f));
}

static uint16_t hal_battery_read_mv(void *) {
    /* 5 V reference, divider 4.7k / 14.7k. */
    return (uint16_t)(analogRead(PIN_BATTERY) * (5000.0f / 1023.0f) * (14.7f / 4.7f));
}

/* ---- wheel speed loop (board-side, runs every tick) ---- */
static void drive(uint8_t wheel, float duty) {
    duty = constrain(duty, -1.0f, 1.0f);
    digitalWrite(PIN_IN1[wheel], duty >= 0.0f);
    digitalWrite(PIN_IN2[wheel], duty < 0.0f);
    analogWrite(PIN_PWM[wheel], (int)(fabsf(duty) * 255.0f));
}

static void speed_loop(uint32_t now_us) {
    float dt_s = (now_us - last_speed_us) * 1e-6f;
    if (dt_s <= 0.0f) {
        return;
    }
    last_speed_us = now_us;
    for (uint8_t w = 0; w < 2; ++w) {
        int32_t c = counts(w);
        measured_rad_s[w] = (c - last_counts[w]) * (6.283185f / ENCODER_CPR) / dt_s;
        last_counts[w] = c;
        float error = setpoint_rad_s[w] - measured_rad_s[w];
        integral[w] = setpoint_rad_s[w] == 0.0f ? 0.0f : integral[w] + error * dt_s; /* stop means stop */
        drive(w, SPEED_KP * error + SPEED_KI * integral[w]);
    }
}

void setup() {
    for (uint8_t w = 0; w < 2; ++w) {
        pinMode(PIN_PWM[w], OUTPUT);
        pinMode(PIN_IN1[w], OUTPUT);
        pinMode(PIN_IN2[w], OUTPUT);
        pinMode(PIN_ENC_A[w], INPUT_PULLUP);
        pinMode(PIN_ENC_B[w], INPUT_PULLUP);
    }
    pinMode(PIN_STBY, OUTPUT);
    digitalWrite(PIN_STBY, HIGH);
    attachInterrupt(digitalPinToInterrupt(PIN_ENC_A[0]), on_left_a, RISING);
    attachInterrupt(digitalPinToInterrupt(PIN_ENC_A[1]), on_right_a, RISING);
    Wire.begin();
    Wire.beginTransmission(MPU_ADDR);
    Wire.write(0x6B); /* PWR_MGMT_1: wake up */
    Wire.write(0);
    Wire.endTransmission();
    Serial.begin(115200);

    rc_config_t config;
    rc_config_default(&config, ROBOT_ID);
    rc_hal_t hal = {NULL, hal_uart_write, hal_motor_set, hal_encoder_read, hal_imu_read, hal_battery_read_mv};
    rc_fw_init(&fw, &config, &hal, millis());
    last_speed_us = micros();
}

void loop() {
    uint8_t buffer[32];
    size_t n = 0;
    while (Serial.available() && n < sizeof(buffer)) {
        buffer[n++] = (uint8_t)Serial.read();
    }
    uint32_t now_ms = millis();
    if (n > 0) {
        rc_fw_rx(&fw, buffer, n, now_ms);
    }
    static uint32_t last_tick_ms;
    if (now_ms != last_tick_ms) { /* 1 kHz core tick */
        last_tick_ms = now_ms;
        rc_fw_tick(&fw, now_ms);
        speed_loop(micros());
    }
}
