// Package diapason holds the Diapason scheme as data: certificate profiles, link policies, lifecycle numbers and the IGC-Santé CAs.
package diapason
