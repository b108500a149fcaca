export * from './column-type.ts'
export { pgType, toStoreJson, fromStore } from './pg.ts'
export { valueSchema } from './validate.ts'
export { civilDays } from './civil-days.ts'
