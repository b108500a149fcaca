import { h } from 'preact'
import htm from 'htm'

// htm turns tagged templates into Preact vnodes: JSX without a compile step.
export const html = htm.bind(h)
