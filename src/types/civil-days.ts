/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil); undefined for a day that does not
 * exist. Shared by the COPY binary writer (dates) and the import's timestamp reader.
 */
export function civilDays(y: number, m: number, d: number): number | undefined {
  if (m < 1 || m > 12 || d < 1) return undefined
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const monthDays = m === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31
  if (d > monthDays) return undefined
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}
