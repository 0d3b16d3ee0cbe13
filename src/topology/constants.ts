/**
 * Physical constants of the constellation model. One Earth radius is used everywhere: the mean radius
 * (6,371 km), the value the SkyMemory paper uses, so the physical model and the paper-parity model agree on
 * what "550 km altitude" means (orbital period 5,730 s at 550 km).
 */

/** Mean Earth radius, km (IUGG mean radius R1). */
export const EARTH_RADIUS_KM = 6371

/** Standard gravitational parameter of the Earth, km^3/s^2 (WGS-84 / EGM-96 value). */
export const EARTH_MU_KM3_S2 = 398600.4418

/** Earth rotation rate, rad/s (sidereal, IERS). */
export const EARTH_ROTATION_RAD_S = 7.2921159e-5

/** Speed of light in vacuum, km/s (exact SI definition 299,792,458 m/s). */
export const SPEED_OF_LIGHT_KM_S = 299792.458

export const DEG = Math.PI / 180

/** Orbital period of a circular orbit at the given altitude (km above the mean radius), seconds. */
export const orbitalPeriodSeconds = (altitudeKm: number, earthRadiusKm = EARTH_RADIUS_KM): number => {
  const a = earthRadiusKm + altitudeKm
  return 2 * Math.PI * Math.sqrt((a * a * a) / EARTH_MU_KM3_S2)
}
